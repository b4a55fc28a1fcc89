package inventory_test

import (
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/inventory"
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
			req, err := inventory.ParseRequest(tt.request)
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
	req, err := inventory.ParseRequest("")
	require.NoError(t, err)
	require.Equal(t, inventory.Default, req.Kind())
	require.Equal(t, "default", req.String())
	require.Equal(t, inventory.Default, inventory.Request{}.Kind())
	req, err = inventory.ParseRequest("latest")
	require.NoError(t, err)
	require.Equal(t, inventory.Latest, req.Kind())
	require.Nil(t, req.ExactVersion())
	req, err = inventory.ParseRequest("v1.2.3")
	require.NoError(t, err)
	require.Equal(t, inventory.Exact, req.Kind())
	require.Equal(t, "1.2.3", req.ExactVersion().String())
	require.Equal(t, "v1.2.3", req.String())
	req, err = inventory.ParseRequest("~1.2")
	require.NoError(t, err)
	require.Equal(t, inventory.Constraint, req.Kind())
}

func TestParseRequestInvalid(t *testing.T) {
	for _, in := range []string{"v", "1.2.3.4", "^^1", "latest-please", "0.2.2\n0.2.3", "\xff\xfe", strings.Repeat("1", 100_000)} {
		t.Run(strings.ToValidUTF8(in[:min(len(in), 20)], "?"), func(t *testing.T) {
			_, err := inventory.ParseRequest(in)
			require.Error(t, err)
			require.Less(t, len(err.Error()), 300, "the error must not echo a huge value back")
		})
	}
}
