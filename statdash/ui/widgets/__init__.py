"""Dashboard widgets: tables, KPI tiles, trends, state summary, status bar."""
