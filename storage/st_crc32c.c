/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_crc32c.c - CRC-32C (Castagnoli), the checksum of every RecordBatch v2.
 *
 * Every produced batch is checked once on arrival and every batch the tap
 * builds is summed once, so this sits on the ingest path.  x86-64 CPUs since
 * 2008 have the SSE4.2 crc32 instruction (8 bytes per instruction), and
 * since 2010 PCLMULQDQ, which folds long inputs faster still; the table code
 * is the fallback for anything else.  The choice is made per call from
 * libgcc's cached CPUID bits, which costs one load and keeps this file free of
 * mutable state.
 *
 * Convention (Kafka's Crc32C, java.util.zip.CRC32C): reflected polynomial
 * 0x82F63B78, register preset to ~0 and inverted at the end, so
 * st_crc32c(0, "123456789", 9) == 0xE3069283 and calls chain.
 */
#include <string.h>

#include "st_batch.h"
#include "st_crc32c.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#include <wmmintrin.h>
#define ST_CRC32C_X86 1
#endif

/* crc32c_table[i] = CRC of the byte i, reflected polynomial 0x82F63B78. */
static const uint32_t crc32c_table[256] = {
	0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4, 0xc79a971f, 0x35f1141c,
	0x26a1e7e8, 0xd4ca64eb, 0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b,
	0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24, 0x105ec76f, 0xe235446c,
	0xf165b798, 0x030e349b, 0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
	0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54, 0x5d1d08bf, 0xaf768bbc,
	0xbc267848, 0x4e4dfb4b, 0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a,
	0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35, 0xaa64d611, 0x580f5512,
	0x4b5fa6e6, 0xb93425e5, 0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
	0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45, 0xf779deae, 0x05125dad,
	0x1642ae59, 0xe4292d5a, 0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a,
	0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595, 0x417b1dbc, 0xb3109ebf,
	0xa0406d4b, 0x522bee48, 0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
	0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687, 0x0c38d26c, 0xfe53516f,
	0xed03a29b, 0x1f682198, 0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927,
	0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38, 0xdbfc821c, 0x2997011f,
	0x3ac7f2eb, 0xc8ac71e8, 0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
	0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096, 0xa65c047d, 0x5437877e,
	0x4767748a, 0xb50cf789, 0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859,
	0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46, 0x7198540d, 0x83f3d70e,
	0x90a324fa, 0x62c8a7f9, 0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
	0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36, 0x3cdb9bdd, 0xceb018de,
	0xdde0eb2a, 0x2f8b6829, 0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c,
	0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93, 0x082f63b7, 0xfa44e0b4,
	0xe9141340, 0x1b7f9043, 0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
	0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3, 0x55326b08, 0xa759e80b,
	0xb4091bff, 0x466298fc, 0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c,
	0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033, 0xa24bb5a6, 0x502036a5,
	0x4370c551, 0xb11b4652, 0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
	0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d, 0xef087a76, 0x1d63f975,
	0x0e330a81, 0xfc588982, 0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d,
	0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622, 0x38cc2a06, 0xcaa7a905,
	0xd9f75af1, 0x2b9cd9f2, 0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
	0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530, 0x0417b1db, 0xf67c32d8,
	0xe52cc12c, 0x1747422f, 0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff,
	0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0, 0xd3d3e1ab, 0x21b862a8,
	0x32e8915c, 0xc083125f, 0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
	0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90, 0x9e902e7b, 0x6cfbad78,
	0x7fab5e8c, 0x8dc0dd8f, 0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee,
	0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1, 0x69e9f0d5, 0x9b8273d6,
	0x88d28022, 0x7ab90321, 0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
	0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81, 0x34f4f86a, 0xc69f7b69,
	0xd5cf889d, 0x27a40b9e, 0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e,
	0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

uint32_t st_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	crc = ~crc;
	while (len--)
		crc = (crc >> 8) ^ crc32c_table[(crc ^ *p++) & 0xff];
	return ~crc;
}

#ifdef ST_CRC32C_X86

bool st_crc32c_hw_available(void)
{
	/* Safe even from a constructor that runs before libgcc's. */
	__builtin_cpu_init();
	return __builtin_cpu_supports("sse4.2");
}

/*
 * The crc32 instruction takes 3 cycles, and on Intel a new one can start
 * every cycle, so one dependent chain runs at a third of the unit's speed
 * (AMD Zen gains less: ~1.3x measured on the build machines).  Long inputs
 * are cut into three equal blocks summed as independent chains, then joined:
 * the register after A||B is shift(crc(A)) ^ crc_from_0(B), where shift
 * advances a register over |B| zero bytes.  That map is linear, so it is the
 * 32 images of the single bits below (generated once with the table code).
 */
#define CRC_LONG  8192
#define CRC_SHORT 256

/* crc_long_shift[i]: register 1 << i advanced over CRC_LONG zero bytes. */
static const uint32_t crc_long_shift[32] = {
	0xe040e0ac, 0xc56db7a9, 0x8f3719a3, 0x1b8245b7, 0x37048b6e, 0x6e0916dc,
	0xdc122db8, 0xbdc82d81, 0x7e7c2df3, 0xfcf85be6, 0xfc1cc13d, 0xfdd5f48b,
	0xfe479fe7, 0xf963493f, 0xf72ae48f, 0xebb9bfef, 0xd29f092f, 0xa0d264af,
	0x4448bfaf, 0x88917f5e, 0x14ce884d, 0x299d109a, 0x533a2134, 0xa6744268,
	0x4904f221, 0x9209e442, 0x21ffbe75, 0x43ff7cea, 0x87fef9d4, 0x0a118559,
	0x14230ab2, 0x28461564,
};

/* The same over CRC_SHORT zero bytes. */
static const uint32_t crc_short_shift[32] = {
	0xdcb17aa4, 0xbc8e83b9, 0x7cf17183, 0xf9e2e306, 0xf629b0fd, 0xe9bf170b,
	0xd69258e7, 0xa8c8c73f, 0x547df88f, 0xa8fbf11e, 0x541b94cd, 0xa837299a,
	0x558225c5, 0xab044b8a, 0x53e4e1e5, 0xa7c9c3ca, 0x4a7ff165, 0x94ffe2ca,
	0x2c13b365, 0x582766ca, 0xb04ecd94, 0x6571edd9, 0xcae3dbb2, 0x902bc195,
	0x25bbf5db, 0x4b77ebb6, 0x96efd76c, 0x2833d829, 0x5067b052, 0xa0cf60a4,
	0x4472b7b9, 0x88e56f72,
};

static uint32_t crc_shift(const uint32_t m[32], uint32_t c)
{
	uint32_t r = 0;

	for (; c; c &= c - 1)
		r ^= m[__builtin_ctz(c)];
	return r;
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* Consume whole groups of three @block-byte blocks from *@pp. */
__attribute__((target("sse4.2")))
static uint64_t crc_hw_3way(uint64_t c, const uint8_t **pp, size_t *lenp, size_t block,
			    const uint32_t shift[32])
{
	const uint8_t *p = *pp;
	size_t len = *lenp;

	for (; len >= 3 * block; len -= 3 * block, p += 2 * block) {
		const uint8_t *end = p + block;
		uint64_t c1 = 0, c2 = 0;

		for (; p < end; p += 8) {
			c = _mm_crc32_u64(c, load64(p));
			c1 = _mm_crc32_u64(c1, load64(p + block));
			c2 = _mm_crc32_u64(c2, load64(p + 2 * block));
		}
		c = crc_shift(shift, (uint32_t)c) ^ c1;
		c = crc_shift(shift, (uint32_t)c) ^ c2;
	}
	*pp = p;
	*lenp = len;
	return c;
}

/*
 * With PCLMULQDQ, long inputs are folded instead (the method of Intel's "Fast
 * CRC Computation for Generic Polynomials Using PCLMULQDQ", reflected): four
 * 16-byte lanes, each carry-less multiplied forward over 64 bytes and xored
 * into the next 64, the four then folded into one, whose 16 bytes two crc32
 * instructions finish.  Folding keeps the message's value mod P, so the
 * result is exact.  A lane moved forward by D bytes: its low 8 bytes times
 * x^(8D + 31) mod P, its high 8 times x^(8D - 33) mod P, both bit-reflected
 * (found and checked against the table code).  On the Zen 1 build machine a
 * 16 KiB tap batch takes ~3.2k TSC cycles, against ~5.4k for three crc32
 * chains joined by multiplies.
 */
#define CRC_FOLD_MIN 128

__attribute__((target("sse4.2,pclmul")))
static inline __m128i crc_fold16(__m128i x, __m128i k)
{
	return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

static inline __m128i load128(const uint8_t *p)
{
	return _mm_loadu_si128((const __m128i *)p);
}

/* The register @c over *@lenp >= CRC_FOLD_MIN bytes from *@pp; leaves fewer than 64 bytes. */
__attribute__((target("sse4.2,pclmul")))
static uint64_t crc_fold(uint64_t c, const uint8_t **pp, size_t *lenp)
{
	const __m128i k64 = _mm_set_epi64x(0x9e4addf8, 0x740eef02);    /* D = 64 */
	const uint8_t *p = *pp;
	size_t len = *lenp - 64;
	__m128i x0 = _mm_xor_si128(load128(p), _mm_cvtsi32_si128((int)(uint32_t)c));
	__m128i x1 = load128(p + 16), x2 = load128(p + 32), x3 = load128(p + 48);

	for (p += 64; len >= 64; len -= 64, p += 64) {
		x0 = _mm_xor_si128(crc_fold16(x0, k64), load128(p));
		x1 = _mm_xor_si128(crc_fold16(x1, k64), load128(p + 16));
		x2 = _mm_xor_si128(crc_fold16(x2, k64), load128(p + 32));
		x3 = _mm_xor_si128(crc_fold16(x3, k64), load128(p + 48));
	}
	x3 = _mm_xor_si128(x3, crc_fold16(x0, _mm_set_epi64x(0xddc0152b, 0x1c291d04)));  /* 48 */
	x3 = _mm_xor_si128(x3, crc_fold16(x1, _mm_set_epi64x(0xba4fc28e, 0x3da6d0cb)));  /* 32 */
	x3 = _mm_xor_si128(x3, crc_fold16(x2, _mm_set_epi64x(0x493c7d27, 0xf20c0dfe)));  /* 16 */
	c = _mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(x3));
	c = _mm_crc32_u64(c, (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(x3, x3)));
	*pp = p;
	*lenp = len;
	return c;
}

__attribute__((target("sse4.2")))
uint32_t st_crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t c = ~crc;

	/* Align so the 8-byte loads never straddle a cache line. */
	for (; len && ((uintptr_t)p & 7); len--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	if (__builtin_cpu_supports("pclmul")) {
		if (len >= CRC_FOLD_MIN)
			c = crc_fold(c, &p, &len);
	} else {
		c = crc_hw_3way(c, &p, &len, CRC_LONG, crc_long_shift);
		c = crc_hw_3way(c, &p, &len, CRC_SHORT, crc_short_shift);
	}
	for (; len >= 8; len -= 8, p += 8)
		c = _mm_crc32_u64(c, load64(p));
	for (; len; len--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
}

uint32_t st_crc32c(uint32_t crc, const void *buf, size_t len)
{
	if (__builtin_cpu_supports("sse4.2"))
		return st_crc32c_hw(crc, buf, len);
	return st_crc32c_sw(crc, buf, len);
}

#else /* !ST_CRC32C_X86 */

bool st_crc32c_hw_available(void)
{
	return false;
}

uint32_t st_crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	return st_crc32c_sw(crc, buf, len);
}

uint32_t st_crc32c(uint32_t crc, const void *buf, size_t len)
{
	return st_crc32c_sw(crc, buf, len);
}

#endif /* ST_CRC32C_X86 */
