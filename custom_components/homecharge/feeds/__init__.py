"""Feeds: adapters that bring meter readings and prices in from Home Assistant."""
