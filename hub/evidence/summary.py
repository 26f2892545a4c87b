"""The printable summary of a pack or a timeline, in Chinese and English: the findings, the
events and alarms (with the readings the findings rest on), who did what when, and the
integrity statement. HTML, printed from any browser, and the source of the PDF
(`printing.py`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

PRINTED_ROWS = 400
"""Timeline rows on paper; the pack's records hold all of them."""

_STYLE = """
@page { size: A4; margin: 16mm 13mm 18mm;
  @bottom-center { content: "第 " counter(page) " / " counter(pages) " 页 · Page "
    counter(page) " of " counter(pages); font-size: 8pt; color: #555; } }
body { font-family: "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Source Han Sans SC", "PingFang SC",
       "Microsoft YaHei", sans-serif; margin: 2em; color: #111; font-size: 10pt; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.4em; }
table { border-collapse: collapse; width: 100%; font-size: 0.85em; }
th, td { border: 1px solid #999; padding: 2px 6px; text-align: left; vertical-align: top; }
.bad { color: #a00; font-weight: bold; } .ok { color: #070; font-weight: bold; }
.findings li { margin: 0.3em 0; } .findings .en { color: #333; }
.decisive { font-weight: bold; } tr.decisive td { background: #fde8e4; }
code { font-size: 0.85em; word-break: break-all; }
@media print { body { margin: 0; } tr { page-break-inside: avoid; } }
"""

_SUBJECTS = {
    "complaint": "投诉 Complaint",
    "work_order": "工单 Work order",
    "device": "设备 Device",
}
_TYPES = {
    "signal": "信号 signal",
    "alarm": "告警 alarm",
    "work_order_event": "工单 order",
    "complaint_event": "投诉 complaint",
    "inspection": "巡查 patrol",
    "notice": "通知 notice",
}


def _key(ref: Mapping[str, Any]) -> tuple[str, str]:
    return str(ref.get("type")), str(ref.get("id"))


def printed(
    records: Sequence[Mapping[str, Any]], findings: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """What matters of a timeline: every entry but readings, and the readings findings cite."""
    cited = {_key(r) for f in findings for r in f.get("refs", [])}
    return [
        r
        for r in records
        if not (r.get("type") == "signal" and r.get("channel") != "event")
        or _key(r.get("ref") or {}) in cited
    ]


def _findings(findings: Sequence[Mapping[str, Any]]) -> str:
    if not findings:
        return "<p>此时段内没有可归纳的结论。 No finding in this window.</p>"
    items = "".join(
        f'<li class="{"decisive" if f.get("decisive") else ""}">'
        f"{escape(str(f.get('statement', '')))}<br>"
        f'<span class="en">{escape(str(f.get("statement_en", "")))}</span></li>'
        for f in findings
    )
    return f'<ol class="findings">{items}</ol>'


def _timeline(records: Sequence[Mapping[str, Any]], findings: Sequence[Mapping[str, Any]]) -> str:
    decisive = {_key(r) for f in findings if f.get("decisive") for r in f.get("refs", [])}
    chosen = printed(records, findings)
    rows = "".join(
        f'<tr class="{"decisive" if _key(r.get("ref") or {}) in decisive else ""}">'
        f"<td>{escape(str(r['at_local']))}</td>"
        f"<td>{escape(_TYPES.get(str(r['type']), str(r['type'])))}</td>"
        f"<td>{escape(r.get('device_id') or '')}</td><td>{escape(r.get('summary') or '')}</td>"
        f"<td><code>{escape((r.get('digest') or '')[:16])}</code></td></tr>"
        for r in chosen[:PRINTED_ROWS]
    )
    more = (
        f"<p>此处列出事件、告警与结论所依据的读数 {min(len(chosen), PRINTED_ROWS)} 条,"
        f"全部 {len(records)} 条见 records.jsonl。 Shown: {min(len(chosen), PRINTED_ROWS)} "
        f"events, alarms and the readings the findings rest on; all {len(records)} entries "
        "are in records.jsonl.</p>"
    )
    return (
        "<table><tr><th>时间 Time</th><th>类型 Type</th><th>设备 Device</th>"
        f"<th>内容 What</th><th>摘要 Digest</th></tr>{rows}</table>{more}"
    )


def _integrity(integrity: Mapping[str, Any]) -> str:
    chains = "".join(
        f"<tr><td>{escape(c['device_id'])}</td><td>{c['count']}</td>"
        f"<td><code>{escape(c['head'])}</code></td></tr>"
        for c in integrity.get("chains", [])
    )
    checkpoint = integrity.get("checkpoint") or {}
    return f"""<table><tr><th>设备 Device</th><th>记录数 Signals</th><th>链头 Chain head</th></tr>
{chains}</table>
<p>签名检查点 Signed checkpoint #{escape(str(checkpoint.get("seq", "")))}
 ({escape(str(checkpoint.get("at", "")))}), Merkle root
 <code>{escape(str(checkpoint.get("root", "")))}</code>, key
 <code>{escape(str(integrity.get("key_id", "")))}</code>.</p>
<p>离线校验 Verify offline: <code>fhub evidence verify PACK.zip</code>
 (公钥 public key: <code>{escape(str(integrity.get("public_key", "")))}</code>).</p>"""


def render(
    *,
    subject: Mapping[str, Any],
    window: Mapping[str, str],
    records: Sequence[Mapping[str, Any]],
    integrity: Mapping[str, Any],
    site_name: str,
    made_at: str,
    findings: Sequence[Mapping[str, Any]] = (),
) -> str:
    """The summary page of a pack or a timeline."""
    verified = bool(integrity.get("verified"))
    verdict = (
        '<p class="ok">链校验通过 All hash chains intact, checkpoint signed.</p>'
        if verified
        else '<p class="bad">发现问题 Problems found:</p><ul>'
        + "".join(f"<li>{escape(p)}</li>" for p in integrity.get("problems", []))
        + "</ul>"
    )
    title = _SUBJECTS.get(str(subject.get("type")), str(subject.get("type")))
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>证据包 Evidence pack — {escape(title)} {escape(str(subject.get("id")))}</title>
<style>{_STYLE}</style></head><body>
<h1>证据包 Evidence pack — {escape(title)} {escape(str(subject.get("id")))}</h1>
<p>{escape(site_name)} · 时段 Window {escape(window["since"])} — {escape(window["until"])}
 · 生成于 Made {escape(made_at)}</p>
<h2>结论 Findings</h2>
{_findings(findings)}
{verdict}
<h2>经过 Who, what, when</h2>
{_timeline(records, findings)}
<h2>完整性 Integrity</h2>
{_integrity(integrity)}
</body></html>
"""
