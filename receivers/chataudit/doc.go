// Package chataudit is the native audit receiver (component type `chataudit`): an HTTP endpoint
// that takes mini-chat audit events as JSON, validates them strictly and forwards them as log records.
package chataudit
