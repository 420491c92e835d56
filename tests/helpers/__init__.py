"""Helpers shared by test modules (plain functions and classes; fixtures live in conftest.py files).

A test module never imports another test module: what two modules share lives here.
"""
