// Package staff owns what a staff member's mail means: whether it is
// really from the company (Authentication-Results from our own receiving
// server, RFC 8601, or a trusted path; From headers are trivially forged),
// which commands it carries at its top (#status, #assign, ...), what of it
// the customer may see, and to whom a new case is assigned. Everything
// here is pure: functions over headers, text and configuration values.
package staff
