"""Widgets of the main screen: the step list, plan view, checks table, activity log and banner."""
