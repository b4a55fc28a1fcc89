package addon_test

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/addon"
	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/output"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		want  addon.Result
	}{
		{"attached", []string{"DATABASE_URL", "HEROKU_APPLINK_API_URL", "HEROKU_APPLINK_TOKEN"}, addon.Result{Status: addon.Attached}},
		{"no token", []string{"HEROKU_APPLINK_API_URL"}, addon.Result{Status: addon.Partial, Absent: "HEROKU_APPLINK_TOKEN"}},
		{"no URL", []string{"HEROKU_APPLINK_TOKEN"}, addon.Result{Status: addon.Partial, Absent: "HEROKU_APPLINK_API_URL"}},
		{"attached as another name", []string{"APPLINK_PROD_API_URL", "APPLINK_PROD_TOKEN", "STRIPE_API_URL"},
			addon.Result{Status: addon.OtherName, Attachments: []string{"APPLINK_PROD"}}},
		{"a second attachment only", []string{"HEROKU_APPLINK_COBALT_API_URL", "HEROKU_APPLINK_COBALT_TOKEN"},
			addon.Result{Status: addon.OtherName, Attachments: []string{"HEROKU_APPLINK_COBALT"}}},
		{"a name alone is no pair", []string{"_API_URL", "_TOKEN", "X_API_URL"}, addon.Result{Status: addon.Missing}},
		{"nothing", []string{}, addon.Result{Status: addon.Missing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, addon.Check(tt.names))
		})
	}
}

func TestReport(t *testing.T) {
	tests := []struct {
		name    string
		names   []string
		image   bool
		wantOut string
		wantErr string
	}{
		{name: "attached: nothing said", names: []string{"HEROKU_APPLINK_API_URL", "HEROKU_APPLINK_TOKEN"}},
		{
			name: "missing", names: []string{"DATABASE_URL"},
			wantOut: "-----> Checking the AppLink add-on\n",
			wantErr: "\n" +
				" !     Warning: The AppLink add-on is not attached: the app has neither\n" +
				" !     HEROKU_APPLINK_API_URL nor HEROKU_APPLINK_TOKEN, and the service mesh exits at boot\n" +
				" !     without them (\"Heroku AppLink add-on config vars not set\"). Attach it:\n" +
				" !\n" +
				" !       heroku addons:create heroku-applink\n" +
				"\n",
		},
		{
			name: "missing, building an image", names: []string{"DATABASE_URL"}, image: true,
			wantOut: "-----> Checking the AppLink add-on\n",
			wantErr: "\n" +
				" !     Warning: The AppLink add-on is not attached: the app has neither\n" +
				" !     HEROKU_APPLINK_API_URL nor HEROKU_APPLINK_TOKEN, and the service mesh exits at boot\n" +
				" !     without them (\"Heroku AppLink add-on config vars not set\"). Attach it:\n" +
				" !\n" +
				" !       heroku addons:create heroku-applink\n" +
				" !\n" +
				" !     When you run the image yourself, set both in its environment instead.\n" +
				"\n",
		},
		{
			name: "another name", names: []string{"SFDC_API_URL", "SFDC_TOKEN"},
			wantOut: "-----> Checking the AppLink add-on\n",
			wantErr: "\n" +
				" !     Warning: The app has neither HEROKU_APPLINK_API_URL nor HEROKU_APPLINK_TOKEN, which the\n" +
				" !     service mesh reads: it exits at boot without them (\"Heroku AppLink add-on config vars not set\").\n" +
				" !     These may be the AppLink add-on attached under another name, or another\n" +
				" !     add-on's or your own config vars (the build reads names only):\n" +
				" !\n" +
				" !       SFDC_API_URL and SFDC_TOKEN\n" +
				" !\n" +
				" !     If one is the AppLink add-on, attach it as HEROKU_APPLINK too:\n" +
				" !\n" +
				" !       heroku addons:attach <add-on name> --as HEROKU_APPLINK\n" +
				" !\n" +
				" !     If none is, the add-on is not attached. Attach it:\n" +
				" !\n" +
				" !       heroku addons:create heroku-applink\n" +
				"\n",
		},
		{
			name: "partial", names: []string{"HEROKU_APPLINK_API_URL"},
			wantOut: "-----> Checking the AppLink add-on\n",
			wantErr: "\n" +
				" !     Warning: The app has HEROKU_APPLINK_API_URL but not HEROKU_APPLINK_TOKEN. The service mesh\n" +
				" !     needs both: it exits at boot without them (\"Heroku AppLink add-on config vars not set\").\n" +
				" !     Restore the missing config var, or attach the add-on again.\n" +
				"\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			addon.Report(output.New(&out, &errOut, output.Classic, false), addon.Check(tt.names), tt.image)
			if diff := cmp.Diff(tt.wantOut, out.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErr, errOut.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}
