package cnb

import (
	"encoding/json"
	"net/url"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/source"
)

// The subset of CycloneDX 1.5 this buildpack writes.
type bom struct {
	BOMFormat   string      `json:"bomFormat"`
	SpecVersion string      `json:"specVersion"`
	Version     int         `json:"version"`
	Metadata    bomMetadata `json:"metadata"`
	Components  []component `json:"components"`
}

type bomMetadata struct {
	Tools struct {
		Components []component `json:"components"`
	} `json:"tools"`
}

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
func PURL(m install.Record) string {
	q := url.Values{}
	q.Set("download_url", m.URL)
	q.Set("checksum", m.Checksum.String())
	return "pkg:generic/" + source.MeshBinary + "@" + m.Version + "?" + q.Encode()
}

func sbomFor(m install.Record, buildpackVersion string) bom {
	b := bom{BOMFormat: "CycloneDX", SpecVersion: "1.5", Version: 1}
	b.Metadata.Tools.Components = []component{{Type: "application", Name: "heroku/heroku-applink", Version: buildpackVersion, Publisher: "Heroku"}}
	b.Components = []component{{
		Type:               "application",
		Name:               source.MeshBinary,
		Version:            m.Version,
		Publisher:          "Heroku",
		PURL:               PURL(m),
		Hashes:             []hash{{Alg: "SHA-256", Content: m.Checksum.Hex()}},
		ExternalReferences: []externalRef{{Type: "distribution", URL: m.URL}},
	}}
	return b
}

func writeSBOM(path string, m install.Record, buildpackVersion string) error {
	data, err := json.MarshalIndent(sbomFor(m, buildpackVersion), "", "  ")
	if err != nil {
		return err
	}
	return writeFile(path, append(data, '\n'))
}
