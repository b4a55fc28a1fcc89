// Package advice owns the checks a build runs on the app's AppLink setup
// once the mesh is installed, which would otherwise fail only when the dyno
// boots, or as a 401 in Salesforce: the Procfile, read as bash reads it;
// the mesh's config file, decoded as the mesh decodes it; and the add-on's
// config vars, by name only. Each check is told what the others found.
// Classic and CNB builds run the same checks. Advice never fails a build.
package advice
