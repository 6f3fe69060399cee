package encode

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/pipelog/pipelog/event"
)

type variantEvent struct {
	event.Base
	Method string        `ecs:"http.request.method"`
	Bytes  int64         `ecs:"http.request.bytes,omitempty"`
	Start  time.Time     `ecs:"event.start"`
	Dur    time.Duration `ecs:"event.duration,omitempty"`
	Domain string        `ecs:"url.domain"`
	Tenant string        `ecs:"labels.tenant"`
	Note   string        `json:"note,omitempty"`
	N      int
	Inner  struct {
		A   string
		B   int `json:",omitempty"`
		Sub struct{ C float64 }
		T   time.Time
	}
	P *int
}

// TestVariantsWriteWhatTheGenericProgramWrites: the programs compiled for
// one kind of record (what it carries) leave out steps and merge fixed
// bytes, and stitch moves keys into the fixed bytes; for thousands of
// random records and fixed-field sets, with and without stitching, they
// must write exactly the line the plain generic program writes.
func TestVariantsWriteWhatTheGenericProgramWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	for _, name := range []string{"", "app"} {
		e := NewEncoder(Config{ServiceName: "svc", Hostname: "h", PID: 1, LoggerName: name})
		fxs := []*Fixed{nil}
		for _, fields := range [][]Field{{{Key: "cloud.region", Value: "eu"}}, {{Key: "team", Value: "data"}, {Key: "http.version", Value: "2"}}} {
			fx, err := e.Fix(nil, fields)
			if err != nil {
				t.Fatal(err)
			}
			fxs = append(fxs, fx)
		}
		ti := describe(reflect.TypeFor[variantEvent]())
		for i := 0; i < 3000; i++ {
			ev := variantEvent{Base: event.Base{Level: event.LevelInfo, Message: pick("", "m"), Reason: pick("", "r"),
				StatusCode: []int{0, 404}[rng.IntN(2)], Warning: pick("", "w")},
				Method: pick("", "GET"), Bytes: int64(rng.IntN(2)), Domain: pick("", "x.org"), Tenant: pick("", "t"),
				Note: pick("", "n"), N: rng.IntN(3)}
			ev.Inner.A, ev.Inner.B, ev.Inner.Sub.C = pick("", "a"), rng.IntN(2), float64(rng.IntN(2))
			if rng.IntN(2) == 0 {
				ev.Inner.T = time.Unix(2, 0)
				ev.P = &ev.N
			}
			if rng.IntN(2) == 0 {
				ev.Err = errors.New(pick("boom", ""))
			}
			if rng.IntN(2) == 0 {
				ev.Start = time.Unix(1, 0)
			}
			rec := Record{Time: time.Unix(1800000000, 0), EventID: []byte(pick("", "id")), Logger: pick("", "zap.db"),
				Correlation: Correlation{CorrelationID: pick("", "c1", "t1"), TraceID: pick("", "t1"), SpanID: pick("", "s"),
					TransactionID: pick("", "tx"), RequestID: pick("", "rq"), Worker: pick("", "w1"), ThreadID: int64(rng.IntN(2))}}
			if rng.IntN(2) == 0 {
				rec.Labels = []Label{{Key: "k", Value: "v"}}
			}
			if rng.IntN(2) == 0 {
				rec.Caller = Caller{File: "f.go", Line: rng.IntN(2), Function: pick("", "main.f")}
			}
			fx := fxs[rng.IntN(len(fxs))]
			pl := e.planFor(ti, fx.shapeOf())
			run := func(prog []step) []byte {
				in := &input{rec: &rec, fx: fx, p: unsafe.Pointer(&ev), plan: pl}
				in.has = e.needs(in)
				rec.Base = ev.Base
				st := state{}
				return e.run(nil, prog, in, &st)
			}
			in := &input{rec: &rec, fx: fx, plan: pl}
			rec.Base = ev.Base
			has := e.needs(in)
			var prog, plain, generic []step // compiled afresh: the cache keeps only maxVariants kinds
			compile(&prog, pl.root, 0, has, true)
			compileSteps(&plain, pl.root, 0, has, true)
			compileSteps(&generic, pl.root, 0, allNeeds, true)
			want := run(generic) // every leaf with its key, every object checked
			for name, got := range map[string][]byte{"stitched variant": run(prog), "variant": run(plain),
				"stitched generic": run(pl.prog)} {
				if !bytes.Equal(got, want) {
					t.Fatalf("record %d (has %b):\n%s %s\nunstitched generic %s", i, has, name, got, want)
				}
			}
		}
	}
}
