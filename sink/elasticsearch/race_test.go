//go:build race

package elasticsearch

const raceEnabled = true
