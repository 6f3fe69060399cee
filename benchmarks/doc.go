// Package benchmarks compares pipelog with peer libraries side by side.
//
// It is a separate module so that users of pipelog never download the peers
// (zap, ecszap, zerolog, esutil, go-docappender). Run from this folder:
//
//	go test -run '^$' -bench . -benchmem
//
// On a shared machine, prefer the two scripts here, whose use is at their
// top: rounds.sh (ns/op in interleaved rounds, ratios per round) and
// instructions.sh (instructions per operation under valgrind's callgrind).
// BenchmarkEvent's "floor" peer (floor_test.go) is OrderRejected written by
// hand, held byte for byte to pipelog's line by TestFloorMatchesPipelog.
package benchmarks
