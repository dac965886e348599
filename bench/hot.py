"""Sum up a py-spy profile (collapsed stacks): where the time goes, by function.

python -m bench.hot PROFILE [--top 30] [--thread MainThread]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match", default="", help="only stacks containing this text")
    args = parser.parse_args()
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in args.profile.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or args.match not in stack:
            continue
        count = int(count_text)
        samples += count
        frames = stack.split(";")
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    print(f"{samples} samples")
    print("\nself time:")
    for frame, count in own.most_common(args.top):
        print(f"{100 * count / samples:6.1f}%  {frame}")
    print("\nincluding callees:")
    for frame, count in total.most_common(args.top):
        print(f"{100 * count / samples:6.1f}%  {frame}")


if __name__ == "__main__":
    main()
