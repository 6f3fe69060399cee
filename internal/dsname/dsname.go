// Package dsname holds the Elasticsearch data stream naming rules, shared by
// the Logger (event.dataset, data_stream.*), the Elasticsearch sink (the
// name it writes to) and the setup (the templates it installs), so the three
// always agree on a name. It knows strings only.
package dsname

import "strings"

// Defaults of the three parts of "<type>-<dataset>-<namespace>".
const (
	DefaultType      = "logs"
	DefaultDataset   = "generic"
	DefaultNamespace = "default"
)

// Name returns "<type>-<dataset>-<namespace>", each part sanitised by Part,
// empty parts replaced by the defaults above.
func Name(typ, dataset, namespace string) string {
	return Part(typ, DefaultType) + "-" + Part(dataset, DefaultDataset) + "-" + Part(namespace, DefaultNamespace)
}

// Part sanitises one part of a data stream name to the Elasticsearch naming
// rules: lower case; none of \ / * ? " < > | , # : space, '-' or a control
// character (each becomes '_'); no leading '_', '+' or '.'; at most 100
// bytes. An empty result is def.
func Part(s, def string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case '\\', '/', '*', '?', '"', '<', '>', '|', ',', '#', ':', ' ', '-', '\t', '\n', '\r':
			r = '_'
		}
		if r < 0x20 || r == 0x7f {
			r = '_'
		}
		b.WriteRune(r)
	}
	out := strings.TrimLeft(b.String(), "_+.")
	if len(out) > 100 {
		out = strings.ToValidUTF8(out[:100], "")
	}
	if out == "" {
		return def
	}
	return out
}
