// Package benchmarks compares pipelog with peer libraries side by side.
//
// It is a separate module so that users of pipelog never download the peers
// (zap, ecszap, zerolog, esutil, go-docappender). Run from this folder:
//
//	go test -run '^$' -bench . -benchmem
package benchmarks
