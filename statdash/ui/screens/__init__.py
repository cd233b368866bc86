"""Screens: the dashboard, help, and problem reports."""
