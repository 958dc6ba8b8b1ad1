# SPDX-License-Identifier: GPL-2.0
"""mk/coverage/table.py SUMMARY TOTALS RUNS: make coverage's table.

Reads gcovr's --json-summary SUMMARY and prints one row per source file of
lib/ and kmod/ (lines and branches executed, as gcovr counts them), the
totals of each, and how they stand against the targets of issue 27.
Writes the one-line totals, with the date and the runs merged (RUNS, e.g.
"host guest kmod"), to TOTALS for make check's summary.
"""
import json
import sys
import time

TARGETS = {
    "lib/": {"lines": 90.0, "branches": 80.0, "file_lines": 75.0},
    "kmod/": {"lines": 90.0, "branches": 75.0},
}


def pct(covered, total):
    return 100.0 * covered / total if total else 100.0


def cell(covered, total):
    if not total:
        return "%18s" % "-"
    return "%6.1f%% %5d/%-5d" % (pct(covered, total), covered, total)


def main():
    summary_path, totals_path, runs = sys.argv[1], sys.argv[2], sys.argv[3].split()
    with open(summary_path) as f:
        summary = json.load(f)
    files = sorted(summary["files"], key=lambda e: e["filename"])
    sums = {}
    print("%-34s %18s %18s" % ("file", "lines", "branches"))
    for e in files:
        name = e["filename"]
        area = next((a for a in TARGETS if name.startswith(a)), None)
        if area is None:
            continue
        s = sums.setdefault(area, [0, 0, 0, 0])
        s[0] += e["line_covered"]
        s[1] += e["line_total"]
        s[2] += e["branch_covered"]
        s[3] += e["branch_total"]
        low = ""
        floor = TARGETS[area].get("file_lines")
        if floor and e["line_total"] and pct(e["line_covered"], e["line_total"]) < floor:
            low = "  < %g%%" % floor
        print("%-34s %s %s%s" % (name, cell(e["line_covered"], e["line_total"]),
                                 cell(e["branch_covered"], e["branch_total"]), low))

    print()
    parts = []
    for area, t in TARGETS.items():
        if area not in sums:
            print("%-34s not measured" % ("total " + area))
            parts.append("%s not measured" % area)
            continue
        lc, lt, bc, bt = sums[area]
        print("%-34s %s %s" % ("total " + area, cell(lc, lt), cell(bc, bt)))
        parts.append("%s %.1f%% lines, %.1f%% branches" % (area, pct(lc, lt), pct(bc, bt)))

    print()
    print("targets (issue 27; printed, not asserted):")
    for area, t in TARGETS.items():
        if area not in sums:
            print("  %-6s not measured" % area)
            continue
        lc, lt, bc, bt = sums[area]
        for what, got in (("lines", pct(lc, lt)), ("branches", pct(bc, bt))):
            verdict = "met" if got >= t[what] else "below, by %.1f points" % (t[what] - got)
            print("  %-6s %-8s >= %g%%: %.1f%%, %s" % (area, what, t[what], got, verdict))
        if "file_lines" in t:
            low = [e["filename"] for e in files if e["filename"].startswith(area)
                   and e["line_total"] and pct(e["line_covered"], e["line_total"]) < t["file_lines"]]
            print("  %-6s every file >= %g%% of lines: %s" % (
                area, t["file_lines"], "met" if not low else "%d below" % len(low)))

    with open(totals_path, "w") as f:
        f.write("%s (make coverage of %s, %s)\n" % (
            "; ".join(parts), time.strftime("%Y-%m-%d %H:%M", time.localtime()), "+".join(runs)))


main()
