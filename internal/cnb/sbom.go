package cnb

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/install"
)

// sbom is the layer's CycloneDX 1.5 bill of materials: the mesh, with its
// sha256 and where it came from (never with credentials), as a generic
// package URL, since the mesh is published as a bare file.
func sbom(r Record, buildpackVersion string) []byte {
	type object = map[string]any
	purl := url.Values{"download_url": {r.URL}, "checksum": {r.Checksum}}
	mesh := object{"type": "application", "name": install.Binary, "version": r.Version, "publisher": "Heroku",
		"purl":               "pkg:generic/" + install.Binary + "@" + r.Version + "?" + purl.Encode(),
		"hashes":             []object{{"alg": "SHA-256", "content": strings.TrimPrefix(r.Checksum, "sha256:")}},
		"externalReferences": []object{{"type": "distribution", "url": r.URL}}}
	tool := object{"type": "application", "name": "heroku/heroku-applink", "version": buildpackVersion, "publisher": "Heroku"}
	data, _ := json.MarshalIndent(object{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
		"metadata": object{"tools": object{"components": []object{tool}}}, "components": []object{mesh}}, "", "  ")
	return append(data, '\n')
}
