"""Electronic signatures and seals (电子签名、电子印章) on PDF documents, with evidence (存证).

The platform's signing CA makes a certificate for each signature; pyHanko writes the PAdES
signature and validates it; the audit chain keeps the evidence.
"""
