"""PDF documents served to contractors: policy documents (and later certificates of insurance)."""
