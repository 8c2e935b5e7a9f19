"""The key-value store's own cost per operation as it grows, with no network in the way.

    python benchmarks/kvstore_scaling.py [--sizes 10000 100000 1000000] [--ops 5000]

For each store size: the store's ``put`` of a new key, ``put`` over an
existing key, a one-key ``range`` and a prefix ``count``, in µs per operation,
and the ordered key index alone beside a plain sorted list (``bisect.insort``,
what the store used before), inserting keys that land in the middle, for the
same sizes. Each figure is the best of three rounds of ``--ops`` operations.
"""

from __future__ import annotations

import argparse
import bisect
import time
from collections.abc import Callable

from skein.kvstore import KeyRange, Put, Store
from skein.kvstore.key_index import KeyIndex


def best_us(rounds: int, ops: int, run: Callable[[int], None]) -> float:
    """Best µs per op over ``rounds`` runs of ``run(round)`` doing ``ops`` operations."""
    best = float("inf")
    for r in range(rounds):
        started = time.perf_counter()
        run(r)
        best = min(best, (time.perf_counter() - started) / ops)
    return best * 1e6


def key(n: int) -> str:
    # Interleaved writers, as in a real application: new keys land mid-range.
    return f"app/worker-{n % 97:02}/{n:08}"


def measure(size: int, ops: int) -> dict[str, float]:
    store = Store(history_max_events=1000)
    for n in range(size):
        store.put(Put(key=key(n), value=b"v"))
    value = b"x" * 100

    def new_keys(r: int) -> None:
        for n in range(ops):
            store.put(Put(key=f"{key(n)}/new{r}", value=value))

    def overwrite(r: int) -> None:
        for n in range(ops):
            store.put(Put(key=key(n), value=value))

    def get_one(r: int) -> None:
        for n in range(ops):
            k = key(n)
            store.range(KeyRange(k, k + "\0"))

    def count_prefix(r: int) -> None:
        for _ in range(ops // 100):
            store.count(KeyRange("app/worker-05/", "app/worker-050"))

    keys = sorted(key(n) for n in range(size))
    index = KeyIndex(keys)

    def list_insort(r: int) -> None:
        for n in range(ops):
            bisect.insort(keys, f"{key(n)}/x{r}")

    def index_add(r: int) -> None:
        for n in range(ops):
            index.add(f"{key(n)}/x{r}")

    return {
        "store put, new key": best_us(3, ops, new_keys),
        "store put, existing key": best_us(3, ops, overwrite),
        "store range, one key": best_us(3, ops, get_one),
        "store count, 1/97 of keys": best_us(3, max(1, ops // 100), count_prefix),
        "insert, sorted list": best_us(3, ops, list_insort),
        "insert, KeyIndex": best_us(3, ops, index_add),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--ops", type=int, default=5000)
    args = parser.parse_args()
    results = {size: measure(size, args.ops) for size in args.sizes}
    names = list(next(iter(results.values())))
    print(f"{'µs per operation':<28}" + "".join(f"{f'{s:,} keys':>16}" for s in args.sizes))
    for name in names:
        print(f"{name:<28}" + "".join(f"{results[s][name]:>16.2f}" for s in args.sizes))


if __name__ == "__main__":
    main()
