#!/usr/bin/env python3
"""Accuracy table from the evaluation harness's per-answer progress lines (stderr of `tokenselect eval`).

  python3 tools/eval_log_table.py docs/runs/accuracy-2026-11-28-h200.log

For runs that ended before the harness wrote its own report (a time limit): every answer it
printed counts, cells show correct/samples, and the mean seconds per answer per policy and length.
"""
import collections
import re
import sys

LINE = re.compile(r'(\S+) len (\d+) sample (\d+) \((\d+) tokens\) (\S+): (ok|WRONG)\s+"(.*)" \(([\d.]+) s\)')


def main(path):
    acc = collections.defaultdict(lambda: [0, 0])
    secs = collections.defaultdict(list)
    tasks, policies, lengths = [], [], []
    for line in open(path, encoding="utf-8"):
        m = LINE.match(line.strip())
        if not m:
            continue
        task, length, _, _, policy, result, _, seconds = m.groups()
        length = int(length)
        for value, seen in ((task, tasks), (policy, policies), (length, lengths)):
            if value not in seen:
                seen.append(value)
        acc[(task, policy, length)][1] += 1
        acc[(task, policy, length)][0] += result == "ok"
        secs[(policy, length)].append(float(seconds))
    lengths.sort()
    head = " | ".join(f"{n // 1024}K" for n in lengths)
    print(f"| task | policy | {head} |")
    print("|---|---|" + "---:|" * len(lengths))
    for task in tasks:
        for policy in policies:
            cells = [f"{acc[(task, policy, n)][0]}/{acc[(task, policy, n)][1]}" if (task, policy, n) in acc else "–"
                     for n in lengths]
            print(f"| {task} | {policy} | " + " | ".join(cells) + " |")
    print()
    print(f"| policy | " + " | ".join(f"{n // 1024}K s/answer" for n in lengths) + " |")
    print("|---|" + "---:|" * len(lengths))
    for policy in policies:
        cells = [f"{sum(secs[(policy, n)]) / len(secs[(policy, n)]):.1f}" if secs[(policy, n)] else "–" for n in lengths]
        print(f"| {policy} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
