package elasticsearch

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipelog/pipelog/internal/esfake"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestElasticsearchFaults(t *testing.T) {
	const n = 600
	everyTenth := func(mod int, status int) func(i int, id string) int {
		return func(i int, id string) int {
			if strings.HasSuffix(id, fmt.Sprint(mod)) {
				return status
			}
			return 0
		}
	}
	tests := []struct {
		name   string
		setup  func(f *esfake.Server, cfg *Config)
		wantDL func(i int) bool // which events must end in the dead letter
		dlType string           // their error.type (substring)
		check  func(t *testing.T, st Stats, dl map[string]dlEntry)
	}{
		{name: "clean"},
		{name: "whole 429 then ok", setup: func(f *esfake.Server, _ *Config) {
			f.Script(esfake.Fault{Status: 429}, esfake.Fault{Status: 429}, esfake.Fault{Status: 429})
		}, check: func(t *testing.T, st Stats, _ map[string]dlEntry) {
			assert.Positive(t, st.Retried)
			assert.GreaterOrEqual(t, st.RequestErrors, int64(3))
		}},
		{name: "whole 500 502 503 504", setup: func(f *esfake.Server, _ *Config) {
			f.Script(esfake.Fault{Status: 500}, esfake.Fault{Status: 502}, esfake.Fault{Status: 503}, esfake.Fault{Status: 504}, esfake.Fault{Status: 503})
		}},
		{name: "per-item 429 400 409 503 mix", setup: func(f *esfake.Server, _ *Config) {
			f.Script(esfake.Fault{ItemStatus: func(i int, id string) int {
				switch id[len(id)-1] {
				case '1':
					return 429
				case '2':
					return 400
				case '3':
					return 409
				case '4':
					return 503
				}
				return 0
			}})
			f.FaultFunc(func(int) esfake.Fault { return esfake.Fault{ItemStatus: everyTenth(2, 400)} })
		}, wantDL: func(i int) bool { return i%10 == 2 }, dlType: "document_parsing_exception",
			check: func(t *testing.T, st Stats, dl map[string]dlEntry) {
				assert.Positive(t, st.Duplicates)
				for _, e := range dl {
					assert.Equal(t, 400, e.Status)
					assert.Contains(t, e.Error.Reason, "failed to parse")
					assert.Equal(t, "logs-test.app-ci", e.Index)
				}
			}},
		{name: "per-item 429 forever exhausts retries", setup: func(f *esfake.Server, cfg *Config) {
			cfg.MaxRetries = 2
			f.FaultFunc(func(int) esfake.Fault { return esfake.Fault{ItemStatus: everyTenth(7, 429)} })
		}, wantDL: func(i int) bool { return i%10 == 7 }, dlType: dlRetriesExhausted,
			check: func(t *testing.T, _ Stats, dl map[string]dlEntry) {
				for _, e := range dl {
					assert.Equal(t, 3, e.Attempts)
					assert.Contains(t, e.Error.Reason, "429")
				}
			}},
		{name: "413 splits the batch", setup: func(f *esfake.Server, _ *Config) { f.MaxItems(7) }},
		{name: "batches of several compressor chunks split and retried", setup: func(f *esfake.Server, cfg *Config) {
			cfg.FlushEvents, cfg.FlushInterval = 1000, time.Second // one batch of ~180 KB
			f.MaxItems(250)
			f.FaultFunc(func(n int) esfake.Fault {
				if n <= 4 {
					return esfake.Fault{ItemStatus: everyTenth(1, 429)}
				}
				return esfake.Fault{}
			})
		}, check: func(t *testing.T, st Stats, _ map[string]dlEntry) {
			assert.Positive(t, st.Retried)
			assert.Greater(t, st.BytesRaw, int64(3*chunkSize), "the first request carried several chunks")
		}},
		{name: "413 single event dead-lettered", setup: func(f *esfake.Server, _ *Config) {
			f.FaultFunc(func(int) esfake.Fault {
				return esfake.Fault{Hook: func(*http.Request) {}}
			})
			f.MaxItems(0)
			f.Script(esfake.Fault{Status: 413}) // a 413 for the very first request: split until single items
		}},
		{name: "connection reset mid-response", setup: func(f *esfake.Server, _ *Config) {
			f.Script(esfake.Fault{Reset: true}, esfake.Fault{Reset: true}, esfake.Fault{Reset: true})
		}, check: func(t *testing.T, st Stats, _ map[string]dlEntry) {
			assert.Positive(t, st.Duplicates, "the reset requests were stored; their retry must answer 409")
		}},
		{name: "truncated body", setup: func(f *esfake.Server, _ *Config) {
			f.Script(esfake.Fault{Truncate: true}, esfake.Fault{Truncate: true})
		}, check: func(t *testing.T, st Stats, _ map[string]dlEntry) {
			assert.Positive(t, st.Duplicates)
		}},
		{name: "items array shorter than the batch", setup: func(f *esfake.Server, _ *Config) {
			f.Script(esfake.Fault{ShortItems: 1}, esfake.Fault{ShortItems: 5})
		}, check: func(t *testing.T, st Stats, _ map[string]dlEntry) {
			assert.Positive(t, st.Duplicates)
		}},
		{name: "unparseable 200 body", setup: func(f *esfake.Server, _ *Config) {
			f.Script(esfake.Fault{Garbage: true})
		}},
		{name: "missing X-Elastic-Product at first", setup: func(f *esfake.Server, _ *Config) {
			f.Script(esfake.Fault{NoProduct: true}, esfake.Fault{NoProduct: true})
		}},
		{name: "missing X-Elastic-Product always", setup: func(f *esfake.Server, cfg *Config) {
			cfg.MaxRetries = 1
			f.FaultFunc(func(int) esfake.Fault { return esfake.Fault{NoProduct: true} })
		}, wantDL: func(int) bool { return true }, dlType: dlRetriesExhausted,
			check: func(t *testing.T, _ Stats, dl map[string]dlEntry) {
				for _, e := range dl {
					assert.Contains(t, e.Error.Reason, "X-Elastic-Product")
				}
			}},
		{name: "slow response past request timeout", setup: func(f *esfake.Server, cfg *Config) {
			cfg.RequestTimeout = 150 * time.Millisecond
			f.Script(esfake.Fault{Delay: time.Second}, esfake.Fault{Delay: time.Second})
		}},
		{name: "whole 400 dead-letters the batch", setup: func(f *esfake.Server, _ *Config) {
			f.FaultFunc(func(int) esfake.Fault { return esfake.Fault{Status: 400} })
		}, wantDL: func(int) bool { return true }, dlType: dlRequestRejected},
	}
	for _, tc := range tests {
		for _, path := range writePaths {
			t.Run(tc.name+"/"+path.name, func(t *testing.T) {
				fake := esfake.New()
				defer fake.Close()
				dl := &memSink{}
				el := &errLog{}
				cfg := fastConfig(fake.URL, dl, el)
				if tc.setup != nil {
					tc.setup(fake, &cfg)
				}
				s, err := New(cfg)
				require.NoError(t, err)
				run := strings.ReplaceAll(tc.name, " ", "_")
				ids := make([]string, n)
				var wg sync.WaitGroup
				for w := range 3 { // concurrent writers
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := w; i < n; i += 3 {
							ids[i] = testID(run, i)
							assert.NoError(t, path.write(s, testDoc(run, i), testID(run, i)))
						}
					}()
				}
				wg.Wait()
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				require.NoError(t, s.Flush(ctx))
				st := s.Stats()
				closeErr := s.Close(ctx)
				assert.NoError(t, closeErr)
				indexed, dead := reconcile(t, fake, dl, ids)
				wantDead := 0
				dls := dl.entries(t)
				for i, id := range ids {
					if tc.wantDL != nil && tc.wantDL(i) {
						wantDead++
						if assert.Contains(t, dls, id) && tc.dlType != "" {
							assert.Contains(t, dls[id].Error.Type, tc.dlType)
						}
					}
				}
				assert.Equal(t, wantDead, dead, "dead-lettered")
				if tc.wantDL == nil {
					assert.Equal(t, n, indexed)
				}
				assert.EqualValues(t, n, st.Accepted)
				assert.EqualValues(t, dead, st.DeadLettered)
				assert.EqualValues(t, 0, st.Queued)
				assert.EqualValues(t, 0, st.InFlight)
				assert.EqualValues(t, 0, st.QueuedBytes)
				// every event reached a final state exactly once
				assert.EqualValues(t, n, st.Indexed+st.Duplicates+st.DeadLettered, "indexed+duplicates+dead-lettered")
				if docs := len(fake.IDs()); docs > 0 {
					assert.Equal(t, map[string]int{"logs-test.app-ci": docs}, fake.Indexes())
				}
				if tc.check != nil {
					tc.check(t, st, dls)
				}
				t.Logf("stats: %s", st)
			})
		}
	}
}
