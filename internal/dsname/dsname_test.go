package dsname

import (
	"strings"
	"testing"
)

func TestPart(t *testing.T) {
	for in, want := range map[string]string{
		"orders-etl":                "orders_etl",
		"Orders ETL":                "orders_etl",
		"a/b*c?d\"e<f>g|h,i#j:k\tl": "a_b_c_d_e_f_g_h_i_j_k_l",
		"_+.leading":                "leading",
		"orders.alerts":             "orders.alerts",
		"":                          "def",
		"___":                       "def",
		"ctl\x01x":                  "ctl_x",
		strings.Repeat("é", 80):     strings.Repeat("é", 50),
	} {
		if got := Part(in, "def"); got != want {
			t.Errorf("Part(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Name("", "orders-etl", ""); got != "logs-orders_etl-default" {
		t.Errorf("Name: %q", got)
	}
}
