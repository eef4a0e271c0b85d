/*
 * model_format.h -- constants of the on-disk model format. The layout is
 * described at the top of model.c; model_write.c produces it.
 */
#ifndef FM_MODEL_FORMAT_H
#define FM_MODEL_FORMAT_H

#define FMI_MODEL_FORMAT_MAJOR 1
#define FMI_MODEL_FORMAT_MINOR 0

/* PNG-style magic: the high byte catches 7-bit transfers, \r\n catches
 * CRLF conversion, \x1a stops DOS `type`, the final \n catches LF->CRLF. */
#define FMI_MAGIC "\x89" "FMM\r\n\x1a\n"
#define FMI_MAGIC_BYTES 8

#define FMI_HDR_BYTES 64
#define FMI_SECTION_ENTRY_BYTES 24
#define FMI_MAX_SECTIONS 32

/* Header field offsets. */
#define FMI_HDR_MAJOR 8
#define FMI_HDR_MINOR 10
#define FMI_HDR_HDRBYTES 12
#define FMI_HDR_FILESIZE 16
#define FMI_HDR_CHECKSUM 24
#define FMI_HDR_NSECTIONS 32
#define FMI_HDR_TABLE 40

/* Section ids (the table is sorted by id, each id at most once). */
#define FMI_SEC_STRINGS 1
#define FMI_SEC_SETTINGS 2
#define FMI_SEC_HEADS 3
#define FMI_SEC_VOCAB 4
#define FMI_SEC_COUNTS 5
#define FMI_SEC_INDEX 6
#define FMI_SEC_CALIB 7

/* Section flag: a reader that does not know the id must refuse the file
 * (FM_EVERSION) instead of skipping the section. */
#define FMI_SECF_REQUIRED 1u

/* Fixed-point scale of feature mass in the counts: mass = round(weight *
 * 2^16) per document, so sums are exact and independent of order. */
#define FMI_MASS_SHIFT 16
#define FMI_MASS_ONE ((double)(1u << FMI_MASS_SHIFT))

/* Record sizes. */
#define FMI_SETTINGS_BYTES 128 /* fixed part; the alpha grid follows */
#define FMI_HEAD_REC_BYTES 32
#define FMI_CLASS_REC_BYTES 32
#define FMI_SRC_REC_BYTES 8
#define FMI_VOCAB_REC_BYTES 16
#define FMI_INDEX_HDR_BYTES 48
#define FMI_SLOT_BYTES 16
#define FMI_POSTING_BYTES 8
#define FMI_CALIB_REC_BYTES 72

#define FMI_MAX_GRID 16

#endif
