"""The printable summary of a pack or a timeline, in Chinese and English: the findings, the
events and alarms (with the readings the findings rest on), who did what when, and the
integrity statement. HTML, printed from any browser, and the source of the PDF
(`printing.py`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from html import escape
from typing import Any

PRINTED_ROWS = 400
"""Timeline rows on paper; the pack's records hold all of them."""

_STYLE = """
@page { size: A4; margin: 16mm 13mm 18mm;
  @bottom-center { content: "第 " counter(page) " / " counter(pages) " 页 · Page "
    counter(page) " of " counter(pages); font-size: 8pt; color: #555;
    font-family: "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif; } }
body { font-family: "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Source Han Sans SC", "PingFang SC",
       "Microsoft YaHei", sans-serif; margin: 2em; color: #111; font-size: 10pt; }
h1, h2, th, b, strong { font-weight: normal; } /* one face of one font: a small, fast PDF */
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.4em; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; font-size: 0.85em; }
th, td { border: 1px solid #999; padding: 2px 6px; text-align: left; vertical-align: top; }
.bad { color: #a00; } .ok { color: #070; }
.findings li { margin: 0.3em 0; } .findings .en { color: #333; }
.findings li.decisive { color: #a00; font-size: 1.1em; }
code { font-family: inherit; font-size: 0.85em; word-break: break-all; color: #555; }
.rows .row { margin: 0; padding: 1px 0; border-bottom: 1px solid #ddd; }
.rows .t { font-variant-numeric: tabular-nums; } .row.decisive { background: #fde8e4; }
@media print { body { margin: 0; } tr, .row { page-break-inside: avoid; } }
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


CONTEXT = timedelta(minutes=15)
"""Ordinary events printed around each decisive finding; the rest are counted."""


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def printed(
    records: Sequence[Mapping[str, Any]], findings: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """What matters of a timeline: alarms, orders, the desk and patrols, the entries findings
    cite, and a device's events near a decisive finding."""
    cited = {_key(r) for f in findings for r in f.get("refs", [])}
    moments = [t for f in findings if f.get("decisive") and (t := _when(f.get("at")))]
    out = []
    for r in records:
        if (
            r.get("type") != "signal"
            or _key(r.get("ref") or {}) in cited
            or (
                r.get("channel") == "event"
                and (at := _when(r.get("at"))) is not None
                and any(abs(at - m) <= CONTEXT for m in moments)
            )
        ):
            out.append(r)
    return out


def _late(record: Mapping[str, Any]) -> str:
    if not record.get("late"):
        return ""
    taken = escape(str(record.get("received_at", "")))
    return f'<span class="bad">迟到 late: 系统收到于 received {taken}</span> '


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
    chosen = printed(records, findings)[:PRINTED_ROWS]
    rows = "".join(
        f'<p class="row{" decisive" if _key(r.get("ref") or {}) in decisive else ""}">'
        f'<span class="t">{escape(str(r["at_local"]))}</span> '
        f"{escape(_TYPES.get(str(r['type']), str(r['type'])))} · "
        f"{escape(r.get('device_id') or '')} · {escape(r.get('summary') or '')} "
        f"{_late(r)}"
        f"<code>{escape((r.get('digest') or '')[:16])}</code></p>"
        for r in chosen
    )
    left = len(records) - len(chosen)
    more = (
        f"<p>另有 {left} 条读数与常规事件未列出,全部 {len(records)} 条见 records.jsonl。 "
        f"{left} more readings and ordinary events are not listed; all {len(records)} "
        "entries are in records.jsonl.</p>"
    )
    return f'<div class="rows">{rows}</div>{more}'


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
