"""`fhub bench`: run the suite, write BENCHMARKS.md, print the figures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks import harness, report
from benchmarks.figures import figures as bench_figures


def bench(*, quick: bool, as_json: bool, output: Path | None) -> dict[str, object]:
    """Run every cell; write the page to `output` (if any); print JSON or a summary."""
    results = harness.run(quick)
    figures = bench_figures(results)
    command = "fhub bench" + (" --quick" if quick else "") + (" --json" if as_json else "")
    if output is not None:
        page = report.render(results, figures, command)
        kept = report.kept_analysis(output)
        output.write_text(page + kept, encoding="utf-8")
        sys.stderr.write(f"wrote {output}\n")
    if as_json:
        sys.stdout.write(json.dumps(figures) + "\n")
    else:
        for key, op, target in report.GOALS:
            value = figures.get(key)
            verdict = report.goal_met(value, op, target)
            sys.stdout.write(f"{key:<24} {value!s:>10}   goal {op} {target:g}: {verdict}\n")
    return figures
