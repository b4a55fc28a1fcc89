// Package output owns everything the buildpack prints for humans.
//
// Both platform contracts print through one Printer so that the install core
// never needs to know which platform it runs on: the Style decides whether a
// step reads as Heroku's classic "-----> " arrow or as the "- " bullets of
// Heroku's Cloud Native Buildpacks. Warnings and errors always go to the error
// stream, and errors are rendered for humans here and nowhere else.
package output
