"""Pure chart functions: DataFrame in, Plotly figure out."""
