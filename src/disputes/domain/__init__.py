"""The claim domain: aggregate, value types, errors and policy. Imports no framework."""
