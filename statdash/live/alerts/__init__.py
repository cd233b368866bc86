"""Alerts, a feature on the data path: the rules' book (raised, acknowledged, cleared), the
runner that listens to the controller, the rules' actions, and the alert log."""
