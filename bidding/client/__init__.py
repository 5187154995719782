"""The bidder's command-line client: keys, packing, sealing, submission, receipts, decryption."""
