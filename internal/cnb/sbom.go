package cnb

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
)

// The subset of CycloneDX 1.5 this buildpack writes.
type component struct {
	Type               string        `json:"type"`
	Name               string        `json:"name"`
	Version            string        `json:"version,omitempty"`
	Publisher          string        `json:"publisher,omitempty"`
	PURL               string        `json:"purl,omitempty"`
	Hashes             []hash        `json:"hashes,omitempty"`
	ExternalReferences []externalRef `json:"externalReferences,omitempty"`
}

type hash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

type externalRef struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// PURL is the package URL of a mesh release: a generic package, since the
// mesh is published as a bare file, with its download URL and checksum as
// qualifiers.
func PURL(r Record) string {
	q := url.Values{}
	q.Set("download_url", r.URL)
	q.Set("checksum", r.Checksum)
	return "pkg:generic/" + install.Binary + "@" + r.Version + "?" + q.Encode()
}

// sbom is the layer's CycloneDX bill of materials: the mesh, with its
// sha256 and where it came from (never with credentials).
func sbom(r Record, buildpackVersion string) []byte {
	var doc struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
		Version     int    `json:"version"`
		Metadata    struct {
			Tools struct {
				Components []component `json:"components"`
			} `json:"tools"`
		} `json:"metadata"`
		Components []component `json:"components"`
	}
	doc.BOMFormat, doc.SpecVersion, doc.Version = "CycloneDX", "1.5", 1
	doc.Metadata.Tools.Components = []component{{Type: "application", Name: "heroku/heroku-applink", Version: buildpackVersion, Publisher: "Heroku"}}
	doc.Components = []component{{Type: "application", Name: install.Binary, Version: r.Version, Publisher: "Heroku", PURL: PURL(r),
		Hashes:             []hash{{Alg: "SHA-256", Content: strings.TrimPrefix(r.Checksum, "sha256:")}},
		ExternalReferences: []externalRef{{Type: "distribution", URL: r.URL}}}}
	data, _ := json.MarshalIndent(doc, "", "  ")
	return append(data, '\n')
}
