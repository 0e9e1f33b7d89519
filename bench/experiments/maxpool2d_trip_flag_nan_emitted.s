# MaxPool2d(3, 2, 1) forward's vectorized trip (16 outputs) as lucidc emits it with the NaN flag
# (lc_reduction_schedule.flag_nan; dump --stage asm at (16, 64, 256, 256), the loop's two blocks in
# the order they run); llvm-mca-19 -mcpu=znver4 -iterations=200 (bench/README.md)
	leaq	(%r10,%rbp), %r9
	vmovups	(%rdi,%r9,8), %zmm13
	vmovups	64(%rdi,%r9,8), %zmm7
	vmovaps	%zmm13, %zmm10
	vpermt2ps	%zmm7, %zmm2, %zmm10
	vpermt2ps	%zmm7, %zmm3, %zmm13
	testq	%rbx, %rbx
	vmovaps	%zmm10, %zmm9
	vpermt2ps	%zmm14, %zmm4, %zmm9
	vmaxps	%zmm9, %zmm13, %zmm9
	vmaxps	%zmm9, %zmm10, %zmm14
	vmovups	(%r15,%r9,8), %zmm20
	vmovups	64(%r15,%r9,8), %zmm11
	vmovups	(%rsi,%r9,8), %zmm15
	vmovups	64(%rsi,%r9,8), %zmm9
	vcmpunordps	%zmm10, %zmm13, %k0
	movq	-48(%rsp), %rcx
	addq	$16, %rbp
	vmovaps	%zmm20, %zmm18
	vpermt2ps	%zmm11, %zmm2, %zmm18
	vmovaps	%zmm15, %zmm16
	vpermt2ps	%zmm9, %zmm2, %zmm16
	vpermt2ps	%zmm11, %zmm3, %zmm20
	vpermt2ps	%zmm9, %zmm3, %zmm15
	vmovaps	%zmm18, %zmm19
	vpermt2ps	%zmm8, %zmm4, %zmm19
	vmovaps	%zmm16, %zmm17
	vpermt2ps	%zmm12, %zmm4, %zmm17
	vcmpunordps	%zmm18, %zmm20, %k1
	korw	%k1, %k0, %k0
	vcmpunordps	%zmm16, %zmm15, %k1
	korw	%k1, %k0, %k0
	vmaxps	%zmm19, %zmm20, %zmm8
	vmaxps	%zmm17, %zmm15, %zmm12
	vmaxps	%zmm8, %zmm18, %zmm8
	vmaxps	%zmm12, %zmm16, %zmm12
	vmaxps	%zmm14, %zmm8, %zmm8
	vmovaps	%zmm10, %zmm14
	vmaxps	%zmm8, %zmm12, %zmm8
	vpmovm2d	%k0, %zmm12
	vpsrld	$31, %zmm12, %zmm12
	vpord	%zmm12, %zmm6, %zmm6
	vmovaps	%zmm16, %zmm12
	vmovups	%zmm8, (%rcx,%r9,4)
	vmovaps	%zmm18, %zmm8
	cmpq	%r11, %rbp
