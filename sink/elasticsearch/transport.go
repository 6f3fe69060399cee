package elasticsearch

import (
	"fmt"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
)

// Transport returns a client of the cluster cfg names — the same nodes,
// credentials and TLS settings New uses (its other fields are ignored) —
// for requests other than bulk ones: package essetup installs templates
// with it. Requests carry a path only; the client picks the node. Its
// errors never contain credentials.
func Transport(cfg Config) (*elastictransport.Client, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	c, _, err := newClient(&cfg)
	if err != nil {
		return nil, fmt.Errorf("sink: elasticsearch: %w", err)
	}
	return c, nil
}
