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
 */
export const NODE_FLAGS: readonly string[] = ['--single-threaded-gc', '--v8-pool-size=1'];
