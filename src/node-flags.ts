/**
 * The flags `node` runs OneSeal with. bin/oneseal's `#!` line carries them (so `oneseal …`,
 * `npm start` and the container's command all get them, and test/node-flags.test.ts keeps that line
 * and this list the same); launchers that start `node` themselves (benchmarks, child-process tests)
 * pass them too. They are read when the process starts: V8 aborts if its GC flags change later.
 *
 * The server keeps every core busy with its PDF workers, so V8's helper threads (four per process,
 * shared by the event loop's isolate and the workers') have no core of their own: parallel
 * scavenges and concurrent marking only compete with the workers, and every hand-over to a helper
 * wakes a thread on the other core, which costs most in a virtual machine. With GC on each isolate's
 * own thread and one helper left for background compilation, two warm servers side by side (one-page
 * B-B POST /v1/stamps): +9.6% at c=8 and +11.2% at c=32 (6 of 6 pairs each), server CPU per stamp
 * 5.04 → 4.36 and 4.44 → 3.81 ms. In-process stamping (one isolate, the HSM on libuv's threads)
 * gained nothing from them.
 *
 * `--heap-growing-percent=300`: after each full GC, V8 lets the old generation grow to 4× what
 * survived before the next. Left to its own heuristic it chose ~1.8× for the event loop (36 MB live,
 * 65 MB limit), and incremental marking started again soon after each full GC (`--trace-gc`,
 * `--trace-incremental-marking`; apparently because that limit is within one young generation of the
 * heap): a full GC every 0.2–0.5 s under load, by --trace-gc's count a third of the event loop's time
 * in GC. With 4×: 8–10 instead of 43 full GCs in 10 s, the event loop's CPU per stamp 1.74 → 1.23 ms.
 * Two warm servers side by side, one-page B-B: +12% at c=32 (4 of 4 pairs) and +9% (5 of 6), +6% at
 * c=8 (5 of 8, CPU per stamp lower in all 8); RSS under load at c=32 +80–100 MB (~420 → ~515 MB). The
 * memory reducer still shrinks the heaps once the server idles (test/memory-return.test.ts).
 */
export const NODE_FLAGS: readonly string[] = ['--single-threaded-gc', '--v8-pool-size=1', '--heap-growing-percent=300'];

/**
 * The environment bin/oneseal's `#!` line sets for node, for the same reasons and launched the same
 * way as NODE_FLAGS. glibc's malloc gives the top of its heap back to the system once 128 KB are free
 * there, and serves each allocation of 128 KB or more with a fresh mmap; either way the next one
 * touches new pages, and every page fault is a trip through the hypervisor on our machines.
 * node-sqlite3 copies each bound blob (a stamped PDF kept in the database) with malloc: 120 µs per
 * 53 KB copy that way, 7 µs with the heap kept (8 MB of free top, mmap from 1 MB); in the loaded
 * server the page faults per stamp hardly moved, so why it gains is not settled. Two warm servers
 * side by side, one-page B-B, two runs each: +13% and +2% at c=8 (3 of 4, 4 of 6 pairs), +8% and +5%
 * at c=32 (4 of 6, 5 of 6). The container preloads jemalloc instead (Dockerfile), which does not trim
 * so eagerly.
 */
export const NODE_ENV_VARS: Readonly<Record<string, string>> = {
  GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=8388608:glibc.malloc.mmap_threshold=1048576',
};
