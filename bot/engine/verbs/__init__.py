"""The verbs: each turns a checked Query into a Result over its reviewed SQL."""
