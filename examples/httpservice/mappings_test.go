package main

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pipelog/pipelog/ecs/esmapping"
)

// The lines both services write, checked against the mapping setup would
// install for their types and emulated ecs@mappings rules: no field is left
// to a suffix rule, every value fits its mapping.
func TestLinesFitTheInstalledMapping(t *testing.T) {
	var out syncBuffer
	s, err := start(&out)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if res, err := get(ctx, s.AURL+"/orders/42"); err != nil || !strings.HasPrefix(res, "200") {
		t.Fatalf("%q %v", res, err)
	}
	if err := s.stop(ctx); err != nil {
		t.Fatal(err)
	}
	types := append([]reflect.Type{reflect.TypeFor[StockChecked](), reflect.TypeFor[OrderPriced]()}, esmapping.LibraryEvents()...)
	m := esmapping.Build(esmapping.Options{Types: types})
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	mis, err := m.CheckLines(out.Bytes(), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range mis {
		t.Errorf("%s", x)
	}
	if n := strings.Count(string(out.Bytes()), "\n"); n != 5 {
		t.Fatalf("%d lines", n)
	}
}
