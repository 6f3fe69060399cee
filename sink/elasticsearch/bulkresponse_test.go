package elasticsearch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScanBulkResponse(t *testing.T) {
	ok := `{"took":3,"errors":false,"items":[{"create":{"_id":"a","status":201}},{"create":{"_id":"b]","status":201}}]}`
	s, err := scanBulkResponse([]byte(ok))
	require.NoError(t, err)
	assert.Equal(t, bulkSummary{errors: false, items: 2}, s)
	s, err = scanBulkResponse([]byte(`{"errors":true,"items":[]}`))
	require.NoError(t, err)
	assert.Equal(t, bulkSummary{errors: true}, s)
	for _, bad := range []string{``, `<html>`, `{"errors":false,"items":[{"create":{}}`, `{"errors":false}`, ok[:len(ok)/2], `{"errors":false,"items":[]} x`} {
		_, err := scanBulkResponse([]byte(bad))
		assert.Error(t, err, bad)
	}
}

// bulkResponseFor builds an Elasticsearch-shaped bulk response of n created
// items (the item shape of Elasticsearch 8).
func bulkResponseFor(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"took":12,"errors":false,"items":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"create":{"_index":".ds-logs-bench-default-2026.11.26-000001","_id":"01JDQX8Z3K9M2N4P6R8T%06d","_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":%d,"_primary_term":1,"status":201}}`, i, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func BenchmarkScanBulkResponse(b *testing.B) {
	body := bulkResponseFor(2000)
	b.Run("current", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for range b.N {
			s, err := scanBulkResponse(body)
			if err != nil || s.items != 2000 || s.errors {
				b.Fatal(s, err)
			}
		}
	})
}

func TestScanBulkResponseLarge(t *testing.T) {
	body := bulkResponseFor(3000)
	s, err := scanBulkResponse(body)
	require.NoError(t, err)
	assert.Equal(t, bulkSummary{items: 3000}, s)
	// every truncation is refused, never miscounted
	for cut := len(body) - 1; cut > 0; cut -= 1009 {
		_, err := scanBulkResponse(body[:cut])
		require.Error(t, err, "cut at %d", cut)
	}
	var full struct {
		Items []json.RawMessage `json:"items"`
	}
	require.NoError(t, json.Unmarshal(body, &full))
	assert.Len(t, full.Items, 3000)
}
