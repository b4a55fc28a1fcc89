// Package addon owns what a build can tell about the Heroku AppLink add-on
// from the names of the app's config vars: the mesh exits at boot without
// the two the add-on sets, and the build can say so first. It reads names
// only, never a value.
package addon
