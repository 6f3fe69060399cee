package kafka

import "testing"

var benchLine = []byte(`{"@timestamp":"2026-12-02T00:55:11.252372Z","log.level":"info","message":"row loaded","ecs.version":"9.4.0","service":{"name":"bench"},"event":{"action":"RowLoaded","kind":"event","id":"d9a42e5674725dc6ee22905e00000001","dataset":"bench"},"host":{"hostname":"vm"},"process":{"pid":5791},"trace":{"id":"4bf92f3577b34da6a3ce929d0e0e4736"},"span":{"id":"00f067aa0ba902b7"},"Pipelog":{"RowLoaded":{"seq":3,"tenant":"acme"}}}`)

func BenchmarkFill(b *testing.B) {
	fs := newFieldSet("event.id")
	r := new(rec)
	id := []byte("d9a42e5674725dc6ee22905e00000001")
	b.ReportAllocs()
	for range b.N {
		r.fill(benchLine, id, &fs)
	}
}
