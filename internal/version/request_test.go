package version_test

import (
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/version"
)

func TestMatches(t *testing.T) {
	versions := []string{"0.2.2", "0.3.0", "1.4.1", "2.0.0-rc.1"}
	tests := []struct {
		request string
		want    []string
	}{
		{"", []string{"0.2.2", "0.3.0", "1.4.1"}},
		{"  ", []string{"0.2.2", "0.3.0", "1.4.1"}},
		{"v0.2.2", []string{"0.2.2"}},
		{" 0.3.0\n", []string{"0.3.0"}},
		{"~0.2", []string{"0.2.2"}},
		{">=1.0, <2", []string{"1.4.1"}},
		{"2.0.0-rc.1", []string{"2.0.0-rc.1"}},
		{"latest", nil},
		{"LATEST", nil},
	}
	for _, tt := range tests {
		t.Run(tt.request, func(t *testing.T) {
			req, err := version.ParseRequest(tt.request)
			require.NoError(t, err)
			var got []string
			for _, v := range versions {
				if req.Matches(semver.MustParse(v)) {
					got = append(got, v)
				}
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestRequestKinds(t *testing.T) {
	req, err := version.ParseRequest("")
	require.NoError(t, err)
	require.True(t, req.IsDefault())
	require.Equal(t, "default", req.String())
	req, err = version.ParseRequest("latest")
	require.NoError(t, err)
	require.True(t, req.IsLatest())
	req, err = version.ParseRequest("v1.2.3")
	require.NoError(t, err)
	v, exact := req.Exact()
	require.True(t, exact)
	require.Equal(t, "1.2.3", v.String())
	require.Equal(t, "v1.2.3", req.String())
}

func TestParseRequestInvalid(t *testing.T) {
	for _, in := range []string{"v", "1.2.3.4", "^^1", "latest-please", "0.2.2\n0.2.3", "\xff\xfe", strings.Repeat("1", 100_000)} {
		t.Run(strings.ToValidUTF8(in[:min(len(in), 20)], "?"), func(t *testing.T) {
			_, err := version.ParseRequest(in)
			var invalid *version.InvalidRequestError
			require.ErrorAs(t, err, &invalid)
			require.Contains(t, err.Error(), "invalid HEROKU_APPLINK_SERVICE_MESH_RELEASE_VERSION")
			require.Less(t, len(err.Error()), 300, "the error must not echo a huge value back")
			require.Contains(t, invalid.Help(), "exact version")
		})
	}
}
