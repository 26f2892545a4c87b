"""The printable summary of a pack, in Chinese and English (HTML, printed from any browser)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

PRINTED_ROWS = 800
"""Timeline rows on paper; the pack's records hold all of them."""

_STYLE = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
       sans-serif; margin: 2em; color: #111; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; font-size: 0.85em; }
th, td { border: 1px solid #999; padding: 2px 6px; text-align: left; vertical-align: top; }
.bad { color: #a00; font-weight: bold; } .ok { color: #070; font-weight: bold; }
code { font-size: 0.85em; word-break: break-all; }
@media print { body { margin: 0; } tr { page-break-inside: avoid; } }
"""

_SUBJECTS = {
    "complaint": "投诉 Complaint",
    "work_order": "工单 Work order",
    "device": "设备 Device",
}


def render(
    *,
    subject: Mapping[str, Any],
    window: Mapping[str, str],
    records: Sequence[Mapping[str, Any]],
    integrity: Mapping[str, Any],
    site_name: str,
    made_at: str,
) -> str:
    """The summary page of a pack."""
    verified = bool(integrity.get("verified"))
    verdict = (
        '<p class="ok">链校验通过 All hash chains intact, checkpoint signed.</p>'
        if verified
        else '<p class="bad">发现问题 Problems found:</p><ul>'
        + "".join(f"<li>{escape(p)}</li>" for p in integrity.get("problems", []))
        + "</ul>"
    )
    rows = "".join(
        f"<tr><td>{escape(r['at_local'])}</td><td>{escape(r['type'])}</td>"
        f"<td>{escape(r.get('device_id') or '')}</td><td>{escape(r.get('summary') or '')}</td>"
        f"<td><code>{escape((r.get('digest') or '')[:16])}</code></td></tr>"
        for r in records[:PRINTED_ROWS]
    )
    more = (
        f"<p>仅打印前 {PRINTED_ROWS} 条,共 {len(records)} 条见 records.jsonl。 "
        f"First {PRINTED_ROWS} of {len(records)} entries; all are in records.jsonl.</p>"
        if len(records) > PRINTED_ROWS
        else ""
    )
    chains = "".join(
        f"<tr><td>{escape(c['device_id'])}</td><td>{c['count']}</td>"
        f"<td><code>{escape(c['head'])}</code></td></tr>"
        for c in integrity.get("chains", [])
    )
    checkpoint = integrity.get("checkpoint") or {}
    title = _SUBJECTS.get(str(subject.get("type")), str(subject.get("type")))
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>证据包 Evidence pack — {escape(title)} {escape(str(subject.get("id")))}</title>
<style>{_STYLE}</style></head><body>
<h1>证据包 Evidence pack — {escape(title)} {escape(str(subject.get("id")))}</h1>
<p>{escape(site_name)} · 时段 Window {escape(window["since"])} — {escape(window["until"])}
 · 生成于 Made {escape(made_at)}</p>
{verdict}
<h2>时间线 Timeline</h2>
<table><tr><th>时间 Time</th><th>类型 Type</th><th>设备 Device</th><th>内容 What</th>
<th>摘要 Digest</th></tr>{rows}</table>{more}
<h2>完整性 Integrity</h2>
<table><tr><th>设备 Device</th><th>记录数 Signals</th><th>链头 Chain head</th></tr>{chains}</table>
<p>签名检查点 Signed checkpoint #{escape(str(checkpoint.get("seq", "")))}
 ({escape(str(checkpoint.get("at", "")))}), Merkle root
 <code>{escape(str(checkpoint.get("root", "")))}</code>, key
 <code>{escape(str(integrity.get("key_id", "")))}</code>.</p>
<p>离线校验 Verify offline: <code>fhub evidence verify PACK.zip</code>
 (公钥 public key: <code>{escape(str(integrity.get("public_key", "")))}</code>).</p>
</body></html>
"""
