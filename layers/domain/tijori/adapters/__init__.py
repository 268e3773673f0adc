"""The only modules that touch AWS: each turns the outside's errors into domain errors."""
