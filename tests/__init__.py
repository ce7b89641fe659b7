"""Tests for homecharge."""
