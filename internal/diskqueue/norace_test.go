//go:build !race

package diskqueue

const raceEnabled = false
