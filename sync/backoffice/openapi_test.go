package backoffice_test

import (
	"os"
	"strings"
	"testing"
)

// TestOpenAPIListsEveryRoute keeps docs/openapi.yaml in step with Handler.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	raw, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, route := range []struct{ path, method string }{
		{"/healthz", "get"}, {"/v1/batches", "post"}, {"/v1/hotlists", "get"}, {"/v1/hotlists/{list}", "get"},
		{"/v1/admin/hotlists/{list}", "post"}, {"/v1/search", "post"}, {"/v1/authorisations", "post"}, {"/v1/audit/verify", "get"},
	} {
		i := strings.Index(doc, "\n  "+route.path+":\n")
		if i < 0 {
			t.Errorf("openapi.yaml lacks path %s", route.path)
			continue
		}
		rest := doc[i+len(route.path)+4:]
		if j := strings.Index(rest, "\n  /"); j >= 0 {
			rest = rest[:j]
		}
		if !strings.Contains(rest, "\n    "+route.method+":") {
			t.Errorf("openapi.yaml lacks %s %s", route.method, route.path)
		}
	}
}
