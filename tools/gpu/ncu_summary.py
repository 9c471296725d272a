"""Per-kernel summary of an Nsight Compute CSV (`ncu --csv --page raw`) of replayed decode steps.

    python3 tools/gpu/ncu_summary.py ncu-decode-4096.csv [--layers 28]

Groups launches by kernel name and grid, and prints launches, mean and total duration (µs), DRAM bytes
read per launch and the implied read rate, registers per thread and achieved occupancy; with --layers,
the per-layer time of kernels launched once per layer.
"""
import argparse
import collections
import csv
import io


def rows(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    start = text.index('"ID"')  # ncu prints its own lines before the table
    table = list(csv.DictReader(io.StringIO(text[start:])))
    units = table[0]
    return units, [r for r in table[1:] if r.get("Kernel Name")]


def number(value):
    return float(value.replace(",", "")) if value not in ("", None) else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv")
    ap.add_argument("--layers", type=int, default=0)
    args = ap.parse_args()
    units, data = rows(args.csv)
    scale = {"ns": 1e-3, "nsecond": 1e-3, "us": 1.0, "usecond": 1.0, "ms": 1e3, "msecond": 1e3}[
        units.get("gpu__time_duration.sum", "ns")]
    groups = collections.OrderedDict()
    for r in data:
        key = (r["Kernel Name"], r.get("Grid Size", ""))
        g = groups.setdefault(key, {"n": 0, "us": 0.0, "read": 0.0, "regs": r.get("launch__registers_per_thread", ""),
                                    "occ": r.get("sm__warps_active.avg.pct_of_peak_sustained_active", "")})
        g["n"] += 1
        g["us"] += number(r["gpu__time_duration.sum"]) * scale
        g["read"] += number(r.get("dram__bytes_read.sum", "0"))
    total = sum(g["us"] for g in groups.values())
    print(f"{len(data)} launches, {total:.1f} us in all")
    print(f"| kernel | grid | launches | mean us | total us | MB read per launch | read GB/s | regs | occupancy % |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for (name, grid), g in groups.items():
        mean = g["us"] / g["n"]
        mb = g["read"] / g["n"] / 1e6
        rate = g["read"] / (g["us"] * 1e-6) / 1e9 if g["us"] else 0.0
        print(f"| {name} | {grid} | {g['n']} | {mean:.1f} | {g['us']:.1f} | {mb:.2f} | {rate:.0f} | {g['regs']} | {g['occ']} |")
    if args.layers:
        per_layer = sum(g["us"] for g in groups.values() if g["n"] % args.layers == 0 and g["n"] >= args.layers)
        print(f"per layer: {per_layer / args.layers:.1f} us over {args.layers} layers")


if __name__ == "__main__":
    main()
