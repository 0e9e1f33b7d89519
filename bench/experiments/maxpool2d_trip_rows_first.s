# MaxPool2d(3, 2, 1) forward's vectorized trip (16 outputs) as main's lucidc emits it
# (dump --stage asm at (16, 64, 256, 256), the loop's two blocks in the order they run);
# llvm-mca-19 -mcpu=znver4 -iterations=200 (bench/README.md)
	vmovups	(%rsi,%r14,8), %zmm10
	vmovups	64(%rsi,%r14,8), %zmm8
	vmovaps	%zmm10, %zmm6
	vpermt2ps	%zmm8, %zmm1, %zmm6
	vmovaps	%zmm6, %zmm9
	vpermt2ps	%zmm8, %zmm2, %zmm10
	vpermt2ps	%zmm13, %zmm3, %zmm9
	vcmpnleps	%zmm9, %zmm10, %k1
	vcmpordps	%zmm4, %zmm9, %k1 {%k1}
	vmovaps	%zmm10, %zmm9 {%k1}
	vcmpnleps	%zmm9, %zmm6, %k1
	vcmpordps	%zmm4, %zmm9, %k1 {%k1}
.LBB0_12:
	vmovups	(%rbp,%r14,8), %zmm18
	vmovups	64(%rbp,%r14,8), %zmm12
	vmovups	(%r15,%r14,8), %zmm13
	vmovups	64(%r15,%r14,8), %zmm10
	addq	$16, %r8
	vmovaps	%zmm18, %zmm16
	vpermt2ps	%zmm12, %zmm1, %zmm16
	vpermt2ps	%zmm12, %zmm2, %zmm18
	vmovaps	%zmm13, %zmm14
	vpermt2ps	%zmm10, %zmm1, %zmm14
	vpermt2ps	%zmm10, %zmm2, %zmm13
	vmovaps	%zmm16, %zmm17
	vpermt2ps	%zmm7, %zmm3, %zmm17
	vmovaps	%zmm14, %zmm15
	vpermt2ps	%zmm11, %zmm3, %zmm15
	vmovaps	%zmm14, %zmm11
	vmovaps	%zmm16, %zmm7
	vcmpnleps	%zmm17, %zmm18, %k1
	vcmpordps	%zmm4, %zmm17, %k1 {%k1}
	vmovaps	%zmm18, %zmm17 {%k1}
	vcmpnleps	%zmm17, %zmm16, %k1
	vcmpordps	%zmm4, %zmm17, %k1 {%k1}
	vmovaps	%zmm16, %zmm17 {%k1}
	vcmpnleps	%zmm9, %zmm17, %k1
	vcmpordps	%zmm4, %zmm9, %k1 {%k1}
	vmovaps	%zmm17, %zmm9 {%k1}
	vcmpnleps	%zmm15, %zmm13, %k1
	vcmpordps	%zmm4, %zmm15, %k1 {%k1}
	vmovaps	%zmm13, %zmm15 {%k1}
	vcmpnleps	%zmm15, %zmm14, %k1
	vmovaps	%zmm6, %zmm13
	vcmpordps	%zmm4, %zmm15, %k1 {%k1}
	vmovaps	%zmm14, %zmm15 {%k1}
	vcmpnleps	%zmm9, %zmm15, %k1
	vcmpordps	%zmm4, %zmm9, %k1 {%k1}
	vmovaps	%zmm15, %zmm9 {%k1}
	vmovups	%zmm9, (%rcx,%r14,4)
