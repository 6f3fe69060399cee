//go:build race

package diskqueue

const raceEnabled = true
