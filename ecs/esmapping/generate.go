package esmapping

//go:generate go run ./gen
